"""Networks and their weights. "Model" always means a network plus its weights."""
