"""一件事一次办: one form and one submission for several items, one child application per item."""
