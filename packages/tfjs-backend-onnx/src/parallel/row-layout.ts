/**
 * Rows of an NHWC batch of images laid out on a padded grid, the layout the filter gradient's
 * windowed products read (see kernels/conv-filter-grad.ts). Each thread lays out the images of
 * the chunks it runs, straight into its own memory: the padding is shared out with the products.
 */

/** How a batch [N, height, width, channels] is laid out on the grid. */
export interface RowLayout {
  height: number;
  width: number;
  channels: number;
  /** grid row i of phase p holds source row stride * i + p - top (zeros outside the image) */
  stride: number;
  top: number;
  /** the source row starts `left` pixels into the grid row, zeros around it (columns past the grid row are left out) */
  left: number;
  /** grid rows per image */
  gridHeight: number;
  /** pixels per grid row */
  rowPixels: number;
  /** zero elements after the last image's rows (where the windows of the last image end) */
  tailElements: number;
}

/** Elements that `images` images of one phase take, tail included. */
export function rowRegionLength(layout: RowLayout, images: number): number {
  return images * layout.gridHeight * layout.rowPixels * layout.channels + layout.tailElements;
}

/**
 * Writes phase `phase` of images [firstImage, firstImage + images) of `src` into `dst` from
 * element `at` (rowRegionLength elements). Rows are copied in one piece; only the border is zeroed.
 */
export function copyRows(src: Float32Array, dst: Float32Array, at: number, layout: RowLayout, firstImage: number, images: number, phase: number): void {
  const { height, width, channels, stride, top, left, gridHeight, rowPixels } = layout;
  // A 'valid' convolution may never read the last columns: they are left out of the grid.
  const rowLength = Math.min(width, rowPixels - left) * channels;
  const gridRow = rowPixels * channels;
  if (rowLength <= 0) throw new RangeError(`a grid row of ${rowPixels} pixels has no room for pixels from column ${left}`);
  // Zeros run from the end of one copied row to the start of the next one: the right border,
  // the left border, and any grid rows outside the image.
  let zeroFrom = at;
  for (let image = 0; image < images; image++) {
    for (let i = 0; i < gridHeight; i++) {
      const row = stride * i + phase - top;
      if (row < 0 || row >= height) continue;
      const to = at + (image * gridHeight + i) * gridRow + left * channels;
      dst.fill(0, zeroFrom, to);
      const from = ((firstImage + image) * height + row) * width * channels;
      dst.set(src.subarray(from, from + rowLength), to);
      zeroFrom = to + rowLength;
    }
  }
  dst.fill(0, zeroFrom, at + rowRegionLength(layout, images));
}
