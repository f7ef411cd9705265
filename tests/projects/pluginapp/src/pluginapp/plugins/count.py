NAME = "counts"
