//! Satellite and drone scenes for qingshui (pure: bytes in, figures and PNG bytes out; no IO, no
//! clock). See docs/imagery.md.

mod analysis;
mod bands;
mod crs;
mod error;
mod geotiff;
mod mask;
mod overlay;
mod settings;
pub mod synthetic;
mod writer;

pub use analysis::{Analysis, BasinFigures, ChlFit, Class, Figures, SceneInput, analyse};
pub use bands::{Role, Scaling, role_of, scaling};
pub use crs::{Crs, geographic_cell_area_m2, metres_per_degree};
pub use error::ImageryError;
pub use geotiff::{GeoTransform, Header, Pixels, Window, read_header, read_window};
pub use settings::{AnalysisSettings, grade};
pub use writer::{RowsSpec, SceneSpec, write_geotiff, write_rows};
