"""Tests of the async skin: a-twins, async iteration, the guard, thread affinity."""
