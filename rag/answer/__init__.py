"""Answer: evidence sentences, the gate, extractive and generated answers, checks, disagreements."""
