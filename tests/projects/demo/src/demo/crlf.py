def crlf():
    return "crlf"
