pub mod station;
