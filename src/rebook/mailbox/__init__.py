"""Replies come back: Rebook reads the seller's own mailbox over IMAP, read-only, and turns what prospects
answer into cancellations, contacts on the lead and suggestions for the seller."""
