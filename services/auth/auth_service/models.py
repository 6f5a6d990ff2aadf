from webrana_common.db.base import make_base

Base = make_base()
