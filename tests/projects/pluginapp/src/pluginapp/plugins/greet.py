import os

with open(os.path.join(os.path.dirname(__file__), "greeting.txt")) as file:  # data beside it
    NAME = file.read().strip()
