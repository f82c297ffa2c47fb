"""Label values of the synthetic patient's tissue map (shared with the scene's colour table)."""
LABELS = {"background": 0, "normal": 1, "viable_rim": 2, "hypoxic": 3, "necrotic": 4, "artery": 5, "fat": 6}
TUMOUR_LABELS = (LABELS["viable_rim"], LABELS["hypoxic"], LABELS["necrotic"])
HABITATS = ("viable_rim", "hypoxic", "necrotic")
