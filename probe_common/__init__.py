"""What every part of the project shares and none owns: user errors, atomic writes, hashing, package versions.

Each module here imports only the standard library, so `vae/`, `tasks/`, `probe/` and `leaderboard/` can all use it
without pulling in torch, numpy or each other.
"""
