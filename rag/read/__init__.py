"""The reader: a small transformer that reads a passage against a question and finds the
answer span, or says there is none (trained by `rag.read.train`, run with onnxruntime)."""
