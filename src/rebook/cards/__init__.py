"""Business cards: read offline from a photo or a scan with Tesseract, then saved as leads."""
