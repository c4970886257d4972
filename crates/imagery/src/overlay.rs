//! The classified overlay: an RGBA PNG over the lake grid (outside transparent, cloud/unobserved
//! grey, clear water faint blue, bloom green), drawn by the map at the analysis bounds.

use crate::ImageryError;
use crate::analysis::Class;

pub fn encode(classes: &[Class], w: u32, h: u32) -> Result<Vec<u8>, ImageryError> {
    let mut rgba = Vec::with_capacity(classes.len() * 4);
    for c in classes {
        rgba.extend_from_slice(match c {
            Class::Outside => &[0, 0, 0, 0],
            Class::Invalid => &[160, 160, 160, 170],
            Class::Water => &[40, 110, 200, 70],
            Class::Bloom => &[40, 200, 40, 230],
        });
    }
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Eight);
        let mut wr = e
            .write_header()
            .map_err(|e| ImageryError::Encode(e.to_string()))?;
        wr.write_image_data(&rgba)
            .map_err(|e| ImageryError::Encode(e.to_string()))?;
    }
    Ok(out)
}
