"""The verifiable declaration log: Merkle tree, checkpoints, proofs, sequencer."""
