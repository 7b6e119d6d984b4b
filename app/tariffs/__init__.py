"""Tariffs (收费标准): the fee engine and the rules parks bill by."""
