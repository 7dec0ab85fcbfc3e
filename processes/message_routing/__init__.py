"""message_routing: the process's Python (forms helpers and service operators)."""

# what staff read in the data panel beside the forms' fields (processes/data_panel.py)
STAFF_DATA = {"unit_answer": "Birimin yanıtı"}
