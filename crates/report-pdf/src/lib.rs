//! PDF of a qingshui report: compiles the Typst source made by `report::typst_source` with
//! typst + typst-pdf in memory. Fonts come from files on the machine (Debian's fonts-noto-cjk
//! or fonts-wqy-microhei; `[reports] font_paths`); nothing is downloaded, and the fonts are
//! embedded (subset) in the PDF. The only files the document can read are the ones handed in
//! (the charts): no access to the file system from inside a report.

use std::path::{Path, PathBuf};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "no usable font in {0:?} (install fonts-noto-cjk: apt-get install fonts-noto-cjk, or set [reports] font_paths)"
    )]
    NoFont(Vec<PathBuf>),
    #[error("the report's Typst source did not compile: {0}")]
    Compile(String),
    #[error("PDF export failed: {0}")]
    Export(String),
    #[error("bad file name in the report: {0}")]
    BadPath(String),
}

/// Fonts parsed once; cheap to clone (shared bytes).
#[derive(Clone)]
pub struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl Fonts {
    /// Reads every font of the given files (TTF, OTF, TTC collections); missing files are
    /// skipped. An error when none gives a font.
    pub fn load(paths: &[PathBuf]) -> Result<Fonts, PdfError> {
        let mut fonts = Vec::new();
        for p in paths {
            let Ok(data) = std::fs::read(p) else { continue };
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        if fonts.is_empty() {
            return Err(PdfError::NoFont(paths.to_vec()));
        }
        Ok(Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        })
    }

    /// The family names found (for messages and tests).
    pub fn families(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .book
            .families()
            .map(|(name, _)| name.to_string())
            .collect();
        out.dedup();
        out
    }
}

struct ReportWorld {
    library: LazyHash<Library>,
    fonts: Fonts,
    main: FileId,
    source: Source,
    files: Vec<(FileId, Bytes)>,
    today: (i32, u8, u8),
}

fn file_id(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|_| PdfError::BadPath(path.to_string()))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }
    fn main(&self) -> FileId {
        self.main
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::NotSource)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| FileError::NotFound(Path::new("report").to_path_buf()))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Datetime::from_ymd(self.today.0, self.today.1, self.today.2)
    }
}

/// Compiles `source` with `files` (name → bytes, e.g. the chart SVGs) to PDF bytes. `today` is
/// the date `datetime.today()` answers (the shell's clock; reports do not use it today).
pub fn compile(
    source: &str,
    files: &[(String, Vec<u8>)],
    fonts: &Fonts,
    today: (i32, u8, u8),
) -> Result<Vec<u8>, PdfError> {
    let main = file_id("/report.typ")?;
    let mut world_files = Vec::new();
    for (name, bytes) in files {
        world_files.push((file_id(&format!("/{name}"))?, Bytes::new(bytes.clone())));
    }
    let world = ReportWorld {
        library: LazyHash::new(Library::default()),
        fonts: fonts.clone(),
        main,
        source: Source::new(main, source.to_string()),
        files: world_files,
        today,
    };
    let document = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|errors| {
            PdfError::Compile(
                errors
                    .iter()
                    .map(|e| e.message.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|errors| {
        PdfError::Export(
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// Debian's CJK fonts, the defaults of `[reports] font_paths`.
pub const DEFAULT_FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
];
