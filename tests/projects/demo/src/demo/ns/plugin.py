NAME = "namespace-plugin"
