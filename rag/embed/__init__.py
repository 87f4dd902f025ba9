"""Embed: texts to vectors (sentence-transformers, ONNX float32/int8), the runtime choice,
tuning."""
