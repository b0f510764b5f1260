//! Job runner settings: the part of the spec the media job runner reads.
