BOM = "bom été"
