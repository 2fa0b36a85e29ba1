"""The Topic API: assertions on one topic run, read from its trace."""

from tester.topic.normalize import normalize
from tester.topic.topic import Topic, TopicNotFound

__all__ = ["Topic", "TopicNotFound", "normalize"]
