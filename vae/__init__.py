"""Text VAEs of Li et al. 2019 and their baselines: data, model, objectives, training, LM metrics, export."""
