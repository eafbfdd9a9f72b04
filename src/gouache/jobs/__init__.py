"""Operations: the durable store, the state machine, and the workers that run engines."""
