"""What every part of the project shares and none owns: user errors, atomic writes, hashing.

Each module here imports only the standard library, so `vae/`, `tasks/`, `probe/` and `leaderboard/` can all use it
without pulling in torch, numpy or each other.
"""
