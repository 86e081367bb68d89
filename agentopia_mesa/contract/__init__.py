"""Questions and decisions: what the stages ask and what minds answer, the contract between them."""
