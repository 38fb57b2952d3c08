"""``LayerParams``: the read-only view of a layer's arguments (vendor names)."""


class LayerParams:
    """Attribute access to a layer's parameters, named as the vendor's API names them.

    ``parameters.kernel_width`` is the kernel size along axis 1, ``kernel_height``
    along axis 2; likewise ``stride_x``/``stride_y`` and ``pooling_width``/
    ``pooling_height``.
    """

    def __init__(self, layer_type, values):
        self._values = dict(values, layer_type=layer_type)

    def __getattr__(self, key):
        try:
            return self.__dict__["_values"][key]
        except KeyError:
            raise AttributeError(f"LayerParams has no parameter '{key}'") from None

    def __dir__(self):
        return sorted(self._values)

    def to_dict(self):
        """The parameters as a plain dict (enums kept as IntEnum)."""
        return dict(self._values)

    def __repr__(self):
        body = ", ".join(f"{k}={v!r}" for k, v in sorted(self._values.items()))
        return f"LayerParams({body})"
