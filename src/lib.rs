//! wsasim
