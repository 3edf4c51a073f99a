"""Our own torch modules, one per architecture.

Each architecture module offers `detect(state_dict) -> bool` and
`from_state_dict(state_dict) -> nn.Module`. `ARCHITECTURES` is an explicit,
ordered list: the loader asks each in turn instead of scanning folders.
"""
