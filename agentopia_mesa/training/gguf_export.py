"""Write a fine-tuned model as a GGUF llama.cpp loads: a copy of the base GGUF in which only the
tensors training changed are replaced.

Every key-value pair (architecture, hyperparameters, the whole tokenizer) and every untouched
tensor is copied from the base file byte for byte, as gguf-py's ``gguf_new_metadata`` script
does; a replaced tensor is written in ``OUT_TYPES`` (F32 keeps the merged weights exactly; the
base's own Q4_K/Q5_0/... would need a quantizer gguf-py does not have for every type).
"""

from __future__ import annotations

import os
from pathlib import Path

#: --outtype -> the GGML type of the replaced tensors.
OUT_TYPES = ("f32", "f16", "q8_0")


def _encoded(array, out_type: str):
    """``array`` (float32, shape (out, in)) as the tensor data and GGML type for ``out_type``."""
    import numpy as np
    from gguf import GGMLQuantizationType, quants

    if out_type == "f32":
        return np.ascontiguousarray(array, dtype=np.float32), GGMLQuantizationType.F32
    if out_type == "f16":
        return np.ascontiguousarray(array, dtype=np.float16), GGMLQuantizationType.F16
    if out_type == "q8_0":
        return quants.quantize(np.ascontiguousarray(array, dtype=np.float32), GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0
    raise ValueError(f"--outtype {out_type!r}: use one of {', '.join(OUT_TYPES)}")


def write_tuned_gguf(base: Path, replaced: dict, out: Path, out_type: str = "f32") -> None:
    """Write ``out``: ``base`` with the tensors named in ``replaced`` (GGUF name -> float32 array of
    the base tensor's shape, (out, in)) replaced, encoded as ``out_type``. Written under a private
    name and renamed into place. Raises ``ValueError`` for a name the base lacks or a wrong shape."""
    from gguf import GGUFReader, GGUFValueType, GGUFWriter, Keys

    reader = GGUFReader(str(base))
    originals = {tensor.name: tensor for tensor in reader.tensors}
    for name, array in replaced.items():
        if name not in originals:
            raise ValueError(f"{base.name} has no tensor {name}")
        expected = tuple(int(n) for n in reversed(originals[name].shape))  # GGUF lists dimensions innermost first
        if tuple(array.shape) != expected:
            raise ValueError(f"{name}: shape {tuple(array.shape)}, the base's is {expected}")
    partial = out.with_name(f"{out.name}.{os.getpid()}.part")
    writer = GGUFWriter(str(partial), arch=str(reader.fields[Keys.General.ARCHITECTURE].contents()),
                        endianess=reader.endianess)
    try:
        for field in reader.fields.values():
            if field.name == Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                continue  # the writer writes these itself
            value_type = field.types[0]
            sub_type = field.types[-1] if value_type == GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)
        data = {}
        for tensor in reader.tensors:
            if tensor.name in replaced:
                array, ggml_type = _encoded(replaced[tensor.name], out_type)
            else:
                array, ggml_type = tensor.data, tensor.tensor_type
            data[tensor.name] = array
            writer.add_tensor_info(tensor.name, array.shape, array.dtype, array.nbytes, ggml_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor in reader.tensors:
            writer.write_tensor_data(data[tensor.name], tensor_endianess=reader.endianess)
        writer.close()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
