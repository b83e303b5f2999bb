from femiec._version import __version__
