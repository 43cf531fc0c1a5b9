"""The engines of a batch run: ``local`` (one process, input after input) and ``ray_engine`` (decoding tasks and
scoring actors on a Ray cluster); both report to the same finisher."""
