"""The elastic MobileNetV3: its space (`space`), layers (`blocks`, `net`), the supernet
(`supernet.load`), the demo's distorted-digits data (`digits`) and its trainer (`training`)."""
