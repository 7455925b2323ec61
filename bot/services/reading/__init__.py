"""Reading life: the reading log (``log``), rankings (``rankings``), recommendations
(``recommend``) and a reader's reading preferences (``preferences``)."""
