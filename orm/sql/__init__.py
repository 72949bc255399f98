"""SQL text generation: the identifier chokepoint and the compilers."""
