"""Customs XML messages (CEB 2022-05): XSD validation, mapping to the 2.0.0 standards, intake."""
