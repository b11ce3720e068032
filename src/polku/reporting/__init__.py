"""Reporting: what every journey, message and enrolment did, as figures (JSON) and a
static HTML report with plotly charts that works offline.

``records`` (normalise table items), ``figures`` (pure maths), ``charts`` (plotly),
``html_page`` (the page), ``table_scan`` (DynamoDB adapter), ``build`` (use case).
"""
