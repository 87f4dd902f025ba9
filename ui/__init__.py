"""ui: the Gradio chat over the rag pipeline."""
