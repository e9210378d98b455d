"""Built-in training augmentations."""
COMPONENTS: list = []
