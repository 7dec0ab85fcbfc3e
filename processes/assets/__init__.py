"""The asset registry's service operators (the registry itself is the engine's: engine/assets.py)."""
