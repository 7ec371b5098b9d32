//! `image_processing` {count, operation}: draws source images, applies the operation
//! (resize, thumbnail, grayscale, blur, convert) with an image library and writes the
//! outputs under the data directory, one folder per task.

use super::{TaskContext, TaskError, TaskKind};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Thumbnails fit in a square of this many pixels.
const THUMBNAIL: u32 = 128;

pub struct ImageProcessing {
    /// Outputs go to `<dir>/<task id>/`.
    pub dir: PathBuf,
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// How many images to make and process.
    #[schemars(range(min = 1, max = 20))]
    count: u32,
    /// What to do to each image.
    #[schemars(extend("enum" = ["resize", "thumbnail", "grayscale", "blur", "convert"]))]
    operation: String,
    /// Width and height of each source image, in pixels.
    #[schemars(range(min = 16, max = 2048))]
    size: u32,
    /// Pause after each image, so progress can be watched; 0 runs at full speed.
    #[schemars(range(max = 10_000))]
    pace_ms: u64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            count: 3,
            operation: "resize".into(),
            size: 512,
            pace_ms: 500,
        }
    }
}

/// One written output.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Written {
    /// Relative to the images folder: `<task id>/<file>`.
    pub file: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub format: &'static str,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    pub operation: String,
    pub files: Vec<Written>,
}

impl TaskKind for ImageProcessing {
    const NAME: &'static str = "image_processing";
    const DESCRIPTION: &'static str =
        "Draws images, applies an operation to each and writes the results.";
    type Params = Params;
    type Output = Output;

    async fn run(&self, ctx: TaskContext, params: Params) -> Result<Output, TaskError> {
        let folder = self.dir.join(ctx.id().to_string());
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|e| TaskError::Failed(format!("cannot create the output folder: {e}")))?;
        let mut files = Vec::new();
        for n in 1..=params.count {
            let (operation, size, seed) = (params.operation.clone(), params.size, n);
            let folder = folder.clone();
            // Image work is CPU-bound: keep it off the async threads.
            let written =
                tokio::task::spawn_blocking(move || process(&folder, seed, size, &operation))
                    .await
                    .map_err(|e| {
                        TaskError::Failed(format!("image {n} could not be processed: {e}"))
                    })??;
            ctx.info(format_args!(
                "image {n}: {} {}x{} written to {}",
                params.operation, written.width, written.height, written.file
            ));
            files.push(Written {
                file: format!("{}/{}", ctx.id(), written.file),
                ..written
            });
            ctx.progress(
                (n * 100 / params.count).min(99) as u8,
                format!("processed {n} of {} images", params.count),
            );
            if n < params.count {
                ctx.pace(Duration::from_millis(params.pace_ms)).await?;
            }
        }
        Ok(Output {
            operation: params.operation,
            files,
        })
    }
}

/// Draws source image `n`, applies `operation` and writes the result into `folder`.
fn process(folder: &Path, n: u32, size: u32, operation: &str) -> Result<Written, TaskError> {
    let source = DynamicImage::ImageRgb8(draw(n, size));
    let (image, format) = match operation {
        "resize" => (
            source.resize_exact(size / 2, size / 2, FilterType::Triangle),
            ImageFormat::Png,
        ),
        "thumbnail" => (source.thumbnail(THUMBNAIL, THUMBNAIL), ImageFormat::Png),
        "grayscale" => (source.grayscale(), ImageFormat::Png),
        "blur" => (source.blur(2.0), ImageFormat::Png),
        "convert" => (source, ImageFormat::Jpeg),
        other => return Err(TaskError::Failed(format!("unknown operation {other:?}"))),
    };
    let extension = if format == ImageFormat::Jpeg {
        "jpg"
    } else {
        "png"
    };
    let file = format!("{n:03}-{operation}.{extension}");
    let path = folder.join(&file);
    image
        .save_with_format(&path, format)
        .map_err(|e| TaskError::Failed(format!("writing {file} failed: {e}")))?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(Written {
        file,
        width: image.width(),
        height: image.height(),
        bytes,
        format: extension,
    })
}

/// A colourful test card: gradients plus a checker pattern that varies with `n`.
fn draw(n: u32, size: u32) -> RgbImage {
    RgbImage::from_fn(size, size, |x, y| {
        let checker = ((x / 32 + y / 32 + n) % 2) as u8 * 60;
        Rgb([
            ((x * 255) / size) as u8 ^ checker,
            ((y * 255) / size) as u8,
            ((n * 40) % 256) as u8 ^ checker,
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(operation: &str, size: u32) -> (tempfile::TempDir, Output) {
        let dir = tempfile::tempdir().unwrap();
        let kind = ImageProcessing {
            dir: dir.path().to_path_buf(),
        };
        let ctx = TaskContext::new(uuid::Uuid::new_v4(), 1, Default::default());
        let params = Params {
            count: 2,
            operation: operation.into(),
            size,
            pace_ms: 0,
        };
        let out = kind.run(ctx, params).await.unwrap();
        (dir, out)
    }

    #[tokio::test]
    async fn resize_halves_each_image_and_the_files_decode_to_those_dimensions() {
        let (dir, out) = run("resize", 100).await;
        assert_eq!(out.files.len(), 2);
        for file in &out.files {
            assert_eq!((file.width, file.height), (50, 50));
            let decoded = image::open(dir.path().join(&file.file)).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (50, 50));
            assert!(file.bytes > 0);
        }
    }

    #[tokio::test]
    async fn every_operation_writes_what_it_promises() {
        let (dir, out) = run("thumbnail", 300).await;
        assert!(out
            .files
            .iter()
            .all(|f| f.width <= THUMBNAIL && f.height <= THUMBNAIL));
        let (_, out) = run("convert", 64).await;
        assert!(out
            .files
            .iter()
            .all(|f| f.format == "jpg" && f.file.ends_with(".jpg")));
        let (gray_dir, out) = run("grayscale", 64).await;
        let decoded = image::open(gray_dir.path().join(&out.files[0].file)).unwrap();
        assert!(decoded.as_luma8().is_some(), "{:?}", decoded.color());
        let (_, out) = run("blur", 64).await;
        assert_eq!((out.files[0].width, out.files[0].height), (64, 64));
        drop(dir);
    }
}
