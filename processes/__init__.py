"""Domain knowledge: which SEK processes exist, their forms and service operators.

Imports go one way: ``webapp`` -> ``processes`` -> ``engine``.
"""
