"""The prospect's side: signed links in the messages, and the public pages behind them, where a prospect
moves or cancels a meeting, or confirms an offered time, without writing to the seller."""
