"""The operational registry (the source the ETL streams from) and its national campaign
simulator. Built in the registry issue; nothing here yet.
"""
