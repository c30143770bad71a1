"""What both web apps stand on, owned by neither: the cache and the publication of data
versions (:mod:`web.cache`), the warmer's loop (:mod:`web.warm`), the time of the last load
(:mod:`web.data`), the two languages and how numbers and dates are written in them
(:mod:`web.formatting`) and Dash's HTML attributes (:mod:`web.layout`).

The public portal (:mod:`portal`) and the internal dashboards (:mod:`dashboards`) import
from here and never from each other (ARCHITECTURE.md, "Layers").
"""
