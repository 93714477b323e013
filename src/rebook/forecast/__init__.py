"""Which meetings are at risk: a calibrated cancellation forecast trained on the seller's own history."""
