"""LLM: clients for OpenAI-compatible servers and local GGUF models, endpoints, `rag llm
install`."""
