//! Generated media for the demo corp and seeded datasets: a small JPEG picture and a short MP4
//! video per name, pure functions of the name (no I/O), so the image URLs and video media ids of
//! generated orders resolve to real files that are the same on every run.
//!
//! The picture is a blocky street scene (sky, sun, buildings with windows, a road with a centre
//! line, trees, and a pothole, a puddle or a heap of rubbish on the road) whose colours and shapes
//! come from a hash of the name. `jpeg-encoder` writes it as a baseline JPEG.
//!
//! The video is H.264 (Constrained Baseline) in an MP4 file, both written here by hand. H.264 lets
//! a macroblock carry its samples raw (`I_PCM`), so the first frame is the name's scene stored
//! uncompressed, and every later frame is predicted from the one before with one motion vector
//! and no residual, which pans the scene two pixels per frame. No transform or entropy coding of
//! pixels is needed, yet the stream is the ordinary kind that browsers' H.264 decoders play.

/// The content type of [`image`]'s bytes.
pub const IMAGE_CONTENT_TYPE: &str = "image/jpeg";
/// The content type of [`video`]'s bytes.
pub const VIDEO_CONTENT_TYPE: &str = "video/mp4";

/// The width of [`image`]'s picture and of [`video`]'s frames, in pixels.
pub const WIDTH: u16 = 320;
/// The height of [`image`]'s picture and of [`video`]'s frames, in pixels.
pub const HEIGHT: u16 = 240;
/// How many frames [`video`] holds.
pub const VIDEO_FRAMES: u32 = 30;
/// [`video`]'s frames per second: its duration is `VIDEO_FRAMES / VIDEO_FPS` seconds.
pub const VIDEO_FPS: u32 = 10;

/// The JPEG quality (1 to 100); below 90 `jpeg-encoder` subsamples the chroma (4:2:0).
const JPEG_QUALITY: u8 = 85;

/// A baseline JPEG of `WIDTH`×`HEIGHT` pixels showing a street scene drawn from `name`: the same
/// name gives the same bytes, different names give visibly different pictures.
pub fn image(name: &str) -> Vec<u8> {
    let pixels = scene(name, usize::from(WIDTH), usize::from(HEIGHT));
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, JPEG_QUALITY)
        .encode(&pixels, WIDTH, HEIGHT, jpeg_encoder::ColorType::Rgb)
        .expect("a JPEG of a whole RGB buffer encodes into a Vec");
    jpeg
}

/// An MP4 video (H.264 Constrained Baseline, `WIDTH`×`HEIGHT`, `VIDEO_FRAMES` frames at
/// `VIDEO_FPS`) slowly panning over the scene [`image`] draws for `name`; deterministic per name.
pub fn video(name: &str) -> Vec<u8> {
    let pixels = scene(name, usize::from(WIDTH), usize::from(HEIGHT));
    let (luma, cb, cr) = to_yuv420(&pixels, usize::from(WIDTH), usize::from(HEIGHT));
    // The pan's direction comes from the name too: the picture slides left or right by two
    // pixels a frame (8 quarter samples), a whole sample in the half-size chroma planes as well,
    // so no interpolation blurs the picture frame after frame.
    let pan_x = if Dice::new(name).next().is_multiple_of(2) {
        8
    } else {
        -8
    };
    let mut samples = Vec::with_capacity(VIDEO_FRAMES as usize);
    samples.push(length_prefixed(&nal(
        NAL_IDR,
        &h264::idr_slice(&luma, &cb, &cr),
    )));
    for frame in 1..VIDEO_FRAMES {
        samples.push(length_prefixed(&nal(
            NAL_P,
            &h264::p_slice(frame, pan_x, 0),
        )));
    }
    isobmff::file(
        &nal(NAL_SPS, &h264::sps()),
        &nal(NAL_PPS, &h264::pps()),
        &samples,
    )
}

// `WIDTH` and `HEIGHT` are whole macroblocks, so the SPS needs no cropping.
const _: () = assert!(WIDTH.is_multiple_of(16) && HEIGHT.is_multiple_of(16));
/// Macroblock columns and rows of a frame.
const MB_COLUMNS: usize = WIDTH as usize / 16;
const MB_ROWS: usize = HEIGHT as usize / 16;

/// NAL unit headers (`forbidden_zero_bit`, `nal_ref_idc`, `nal_unit_type`).
const NAL_SPS: u8 = 0x67;
const NAL_PPS: u8 = 0x68;
const NAL_IDR: u8 = 0x65;
const NAL_P: u8 = 0x41;

/// A deterministic stream of numbers from a name: FNV-1a over its bytes seeds a SplitMix64
/// generator. Written out rather than taken from `rand`, whose algorithms may change between
/// versions, so a name's picture stays the same for good.
struct Dice(u64);

impl Dice {
    fn new(name: &str) -> Dice {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in name.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Dice(hash)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..high` (`low` if the range is empty).
    fn range(&mut self, low: isize, high: isize) -> isize {
        if high <= low {
            return low;
        }
        low + (self.next() % (high - low) as u64) as isize
    }

    /// A colour with each channel in its own range.
    fn colour(&mut self, red: (isize, isize), green: (isize, isize), blue: (isize, isize)) -> Rgb {
        [
            self.range(red.0, red.1) as u8,
            self.range(green.0, green.1) as u8,
            self.range(blue.0, blue.1) as u8,
        ]
    }
}

type Rgb = [u8; 3];

/// An RGB picture being drawn; shapes are clipped to it.
struct Canvas {
    width: isize,
    height: isize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width: width as isize,
            height: height as isize,
            pixels: vec![0; width * height * 3],
        }
    }

    fn put(&mut self, x: isize, y: isize, colour: Rgb) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            let at = ((y * self.width + x) * 3) as usize;
            self.pixels[at..at + 3].copy_from_slice(&colour);
        }
    }

    /// Fills the rectangle `x0..x1` × `y0..y1`.
    fn rect(&mut self, x0: isize, y0: isize, x1: isize, y1: isize, colour: Rgb) {
        for y in y0.max(0)..y1.min(self.height) {
            for x in x0.max(0)..x1.min(self.width) {
                self.put(x, y, colour);
            }
        }
    }

    /// Fills the ellipse centred on `(cx, cy)` with radii `rx` and `ry`.
    fn ellipse(&mut self, cx: isize, cy: isize, rx: isize, ry: isize, colour: Rgb) {
        let (rx, ry) = (rx.max(1), ry.max(1));
        for y in cy - ry..=cy + ry {
            for x in cx - rx..=cx + rx {
                let (dx, dy) = (x - cx, y - cy);
                if dx * dx * ry * ry + dy * dy * rx * rx <= rx * rx * ry * ry {
                    self.put(x, y, colour);
                }
            }
        }
    }
}

/// Blends `from` into `to` by `step / steps`.
fn blend(from: Rgb, to: Rgb, step: isize, steps: isize) -> Rgb {
    let steps = steps.max(1);
    let mut out = [0; 3];
    for channel in 0..3 {
        let (a, b) = (isize::from(from[channel]), isize::from(to[channel]));
        out[channel] = (a + (b - a) * step / steps) as u8;
    }
    out
}

/// Scales a colour's brightness by `percent`, saturating.
fn shade(colour: Rgb, percent: isize) -> Rgb {
    colour.map(|channel| (isize::from(channel) * percent / 100).clamp(0, 255) as u8)
}

/// The street scene of `name`, as `width`×`height` RGB pixels, row by row. Integer arithmetic
/// only, so it is the same on every platform.
fn scene(name: &str, width: usize, height: usize) -> Vec<u8> {
    let mut dice = Dice::new(name);
    let mut canvas = Canvas::new(width, height);
    let (w, h) = (width as isize, height as isize);
    let horizon = h * dice.range(40, 56) / 100;

    // The sky, a vertical gradient, and the sun.
    let sky_top = dice.colour((20, 120), (60, 170), (140, 256));
    let sky_low = dice.colour((180, 256), (170, 240), (150, 230));
    for y in 0..horizon {
        canvas.rect(0, y, w, y + 1, blend(sky_top, sky_low, y, horizon));
    }
    let sun = dice.colour((240, 256), (170, 240), (60, 170));
    let (sun_x, sun_y) = (
        dice.range(w / 8, w * 7 / 8),
        dice.range(h / 12, horizon / 2),
    );
    let sun_radius = dice.range(h / 40, h / 12);
    canvas.ellipse(sun_x, sun_y, sun_radius, sun_radius, sun);

    // The buildings along the horizon, with windows, some of them lit.
    let mut x = -dice.range(0, w / 10);
    while x < w {
        let building_width = dice.range(w / 14, w / 5);
        let building_height = dice.range(horizon / 4, horizon * 9 / 10);
        let wall = dice.colour((70, 210), (60, 200), (60, 190));
        let top = horizon - building_height;
        canvas.rect(x, top, x + building_width, horizon, wall);
        let (window_width, window_height) = ((w / 80).max(2), (h / 48).max(3));
        let mut window_y = top + window_height;
        while window_y + window_height * 2 < horizon {
            let mut window_x = x + window_width;
            while window_x + window_width * 2 <= x + building_width {
                let glass = if dice.range(0, 3) == 0 {
                    [250, 230, 140]
                } else {
                    shade(wall, 55)
                };
                canvas.rect(
                    window_x,
                    window_y,
                    window_x + window_width,
                    window_y + window_height,
                    glass,
                );
                window_x += window_width * 2;
            }
            window_y += window_height * 2;
        }
        x += building_width + dice.range(0, w / 40);
    }

    // The ground: pavement, then the road narrowing towards a vanishing point, with dashes.
    let pavement = dice.colour((140, 200), (135, 190), (120, 180));
    canvas.rect(0, horizon, w, h, pavement);
    let road = dice.colour((60, 110), (60, 110), (60, 115));
    let line: Rgb = if dice.range(0, 2) == 0 {
        [240, 240, 235]
    } else {
        [240, 200, 60]
    };
    let vanish = dice.range(w * 3 / 8, w * 5 / 8);
    let span = (h - horizon).max(1);
    for y in horizon..h {
        let depth = y - horizon;
        let centre = vanish + (w / 2 - vanish) * depth / span;
        let half = 3 + w * 45 / 100 * depth / span;
        canvas.rect(centre - half, y, centre + half, y + 1, road);
        // Dashes get longer towards the viewer, roughly as in perspective.
        if depth * depth * 14 / (span * span) % 2 == 0 {
            let dash = 1 + 4 * depth / span;
            canvas.rect(centre - dash / 2, y, centre + dash - dash / 2, y + 1, line);
        }
    }

    // Trees on the pavement at both sides.
    for _ in 0..dice.range(0, 4) {
        let side = if dice.range(0, 2) == 0 {
            dice.range(0, w / 6)
        } else {
            dice.range(w * 5 / 6, w)
        };
        let foot = dice.range(horizon + span / 4, h);
        let size = 6 + 28 * (foot - horizon) / span;
        let trunk = [90, 60, 40];
        canvas.rect(
            side - size / 8,
            foot - size * 2,
            side + size / 8 + 1,
            foot,
            trunk,
        );
        let leaves = dice.colour((30, 90), (100, 170), (30, 80));
        canvas.ellipse(side, foot - size * 2, size * 2 / 3, size, leaves);
    }

    // What the patrol reports: something on the road, in its lower half.
    let depth = span * dice.range(55, 90) / 100;
    let y = horizon + depth;
    let centre = vanish + (w / 2 - vanish) * depth / span;
    let half = 3 + w * 45 / 100 * depth / span;
    let x = centre + dice.range(-half * 2 / 3, half * 2 / 3);
    let size = 4 + 30 * depth / span;
    match dice.range(0, 3) {
        0 => {
            // A pothole: a dark hole with a lighter rim.
            canvas.ellipse(x, y, size + 2, size / 2 + 2, shade(road, 130));
            canvas.ellipse(x, y, size, size / 2, [35, 28, 25]);
        }
        1 => {
            // A puddle reflecting the sky.
            canvas.ellipse(x, y, size * 3 / 2, size / 2, shade(sky_top, 80));
            canvas.ellipse(x + size / 3, y, size / 2, size / 5, sky_low);
        }
        _ => {
            // A heap of rubbish: bags and boxes.
            for _ in 0..6 {
                let colour = dice.colour((30, 250), (30, 250), (30, 250));
                let (dx, dy) = (dice.range(-size, size), dice.range(-size / 2, size / 3));
                let bag = dice.range(size / 4, size / 2 + 1);
                if dice.range(0, 2) == 0 {
                    canvas.ellipse(x + dx, y + dy, bag, bag * 3 / 4, colour);
                } else {
                    canvas.rect(x + dx - bag, y + dy - bag, x + dx + bag, y + dy, colour);
                }
            }
        }
    }
    canvas.pixels
}

/// BT.601 limited-range Y′CbCr with 4:2:0 chroma (each chroma sample the mean of a 2×2 block):
/// what an H.264 decoder assumes when the stream says nothing else.
fn to_yuv420(pixels: &[u8], width: usize, height: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let rgb = |x: usize, y: usize| {
        let at = (y * width + x) * 3;
        (
            i32::from(pixels[at]),
            i32::from(pixels[at + 1]),
            i32::from(pixels[at + 2]),
        )
    };
    let mut luma = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (r, g, b) = rgb(x, y);
            luma.push((((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8);
        }
    }
    let (mut cb, mut cr) = (Vec::new(), Vec::new());
    for y in (0..height).step_by(2) {
        for x in (0..width).step_by(2) {
            let (mut r, mut g, mut b) = (0, 0, 0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (pr, pg, pb) = rgb(x + dx, y + dy);
                (r, g, b) = (r + pr, g + pg, b + pb);
            }
            let (r, g, b) = ((r + 2) / 4, (g + 2) / 4, (b + 2) / 4);
            cb.push((((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8);
            cr.push((((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8);
        }
    }
    (luma, cb, cr)
}

/// A NAL unit: its header byte, then the RBSP with emulation prevention (an `0x03` after any two
/// zero bytes that a byte of 0 to 3 follows, so no start code can appear inside).
fn nal(header: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 1);
    out.push(header);
    let mut zeros = 0;
    for &byte in rbsp {
        if zeros >= 2 && byte <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(byte);
        zeros = if byte == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// A NAL unit as an MP4 sample holds it: after its length in 4 bytes (`avcC`'s
/// `lengthSizeMinusOne` is 3).
fn length_prefixed(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len() + 4);
    out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
    out.extend_from_slice(nal);
    out
}

/// The H.264 syntax structures the video needs (ITU-T H.264, clause 7), in CAVLC.
mod h264 {
    use super::{MB_COLUMNS, MB_ROWS, VIDEO_FPS};

    /// Bits written most significant first, as H.264's syntax reads them.
    #[derive(Default)]
    struct BitWriter {
        bytes: Vec<u8>,
        current: u8,
        used: u8,
    }

    impl BitWriter {
        fn bit(&mut self, bit: bool) {
            self.current = self.current << 1 | u8::from(bit);
            self.used += 1;
            if self.used == 8 {
                self.bytes.push(self.current);
                (self.current, self.used) = (0, 0);
            }
        }

        /// `u(count)`: the `count` low bits of `value`.
        fn bits(&mut self, value: u32, count: u32) {
            for shift in (0..count).rev() {
                self.bit(value >> shift & 1 == 1);
            }
        }

        /// `ue(v)`: unsigned Exp-Golomb.
        fn ue(&mut self, value: u32) {
            let code = value + 1;
            let length = 32 - code.leading_zeros();
            self.bits(0, length - 1);
            self.bits(code, length);
        }

        /// `se(v)`: signed Exp-Golomb.
        fn se(&mut self, value: i32) {
            let code = if value > 0 { 2 * value - 1 } else { -2 * value };
            self.ue(code as u32);
        }

        /// Zero bits up to the next byte boundary.
        fn align(&mut self) {
            while self.used != 0 {
                self.bit(false);
            }
        }

        /// A whole byte; the writer is byte aligned.
        fn byte(&mut self, byte: u8) {
            debug_assert_eq!(self.used, 0);
            self.bytes.push(byte);
        }

        /// `rbsp_trailing_bits()`: a stop bit, then zeros to the byte boundary.
        fn finish(mut self) -> Vec<u8> {
            self.bit(true);
            self.align();
            self.bytes
        }
    }

    /// `profile_idc`: Baseline; with `constraint_set0_flag` and `constraint_set1_flag`
    /// (`0xC0`) it is Constrained Baseline, which every H.264 decoder plays.
    pub(super) const PROFILE: u8 = 66;
    pub(super) const CONSTRAINTS: u8 = 0xC0;
    /// `level_idc`: 3.0.
    pub(super) const LEVEL: u8 = 30;
    /// `log2_max_frame_num_minus4`: `frame_num` is 8 bits.
    const FRAME_NUM_BITS: u32 = 8;

    /// The sequence parameter set (7.3.2.1) with VUI (E.1.1): 4:2:0, 8 bits, frames only,
    /// picture order by `frame_num` (type 2, no reordering), one reference frame, BT.601 colour,
    /// `VIDEO_FPS` frames per second.
    pub(super) fn sps() -> Vec<u8> {
        let mut w = BitWriter::default();
        w.bits(u32::from(PROFILE), 8);
        w.bits(u32::from(CONSTRAINTS), 8);
        w.bits(u32::from(LEVEL), 8);
        w.ue(0); // seq_parameter_set_id
        w.ue(FRAME_NUM_BITS - 4); // log2_max_frame_num_minus4
        w.ue(2); // pic_order_cnt_type
        w.ue(1); // max_num_ref_frames
        w.bit(false); // gaps_in_frame_num_value_allowed_flag
        w.ue(MB_COLUMNS as u32 - 1); // pic_width_in_mbs_minus1
        w.ue(MB_ROWS as u32 - 1); // pic_height_in_map_units_minus1
        w.bit(true); // frame_mbs_only_flag
        w.bit(true); // direct_8x8_inference_flag
        w.bit(false); // frame_cropping_flag
        w.bit(true); // vui_parameters_present_flag
        w.bit(false); // aspect_ratio_info_present_flag
        w.bit(false); // overscan_info_present_flag
        w.bit(true); // video_signal_type_present_flag
        w.bits(5, 3); // video_format: unspecified
        w.bit(false); // video_full_range_flag
        w.bit(true); // colour_description_present_flag
        w.bits(6, 8); // colour_primaries: SMPTE 170M (BT.601)
        w.bits(6, 8); // transfer_characteristics
        w.bits(6, 8); // matrix_coefficients
        w.bit(false); // chroma_loc_info_present_flag
        w.bit(true); // timing_info_present_flag
        w.bits(1, 32); // num_units_in_tick
        w.bits(2 * VIDEO_FPS, 32); // time_scale: two ticks a frame
        w.bit(true); // fixed_frame_rate_flag
        w.bit(false); // nal_hrd_parameters_present_flag
        w.bit(false); // vcl_hrd_parameters_present_flag
        w.bit(false); // pic_struct_present_flag
        w.bit(true); // bitstream_restriction_flag
        w.bit(true); // motion_vectors_over_pic_boundaries_flag
        w.ue(0); // max_bytes_per_pic_denom
        w.ue(0); // max_bits_per_mb_denom
        w.ue(15); // log2_max_mv_length_horizontal
        w.ue(15); // log2_max_mv_length_vertical
        w.ue(0); // max_num_reorder_frames
        w.ue(1); // max_dec_frame_buffering
        w.finish()
    }

    /// The picture parameter set (7.3.2.2): CAVLC, one slice group, one reference index,
    /// QP 26, and slices may turn the deblocking filter off.
    pub(super) fn pps() -> Vec<u8> {
        let mut w = BitWriter::default();
        w.ue(0); // pic_parameter_set_id
        w.ue(0); // seq_parameter_set_id
        w.bit(false); // entropy_coding_mode_flag: CAVLC
        w.bit(false); // bottom_field_pic_order_in_frame_present_flag
        w.ue(0); // num_slice_groups_minus1
        w.ue(0); // num_ref_idx_l0_default_active_minus1
        w.ue(0); // num_ref_idx_l1_default_active_minus1
        w.bit(false); // weighted_pred_flag
        w.bits(0, 2); // weighted_bipred_idc
        w.se(0); // pic_init_qp_minus26
        w.se(0); // pic_init_qs_minus26
        w.se(0); // chroma_qp_index_offset
        w.bit(true); // deblocking_filter_control_present_flag
        w.bit(false); // constrained_intra_pred_flag
        w.bit(false); // redundant_pic_cnt_present_flag
        w.finish()
    }

    /// The slice header (7.3.3) of a picture that is one slice: I for the IDR picture, P after.
    fn slice_header(w: &mut BitWriter, frame_num: u32) {
        let idr = frame_num == 0;
        w.ue(0); // first_mb_in_slice
        w.ue(if idr { 7 } else { 5 }); // slice_type: I or P, all slices of the picture alike
        w.ue(0); // pic_parameter_set_id
        w.bits(frame_num % (1 << FRAME_NUM_BITS), FRAME_NUM_BITS); // frame_num
        if idr {
            w.ue(0); // idr_pic_id
        } else {
            w.bit(false); // num_ref_idx_active_override_flag
            w.bit(false); // ref_pic_list_modification_flag_l0
        }
        // dec_ref_pic_marking(): every picture is a reference, the oldest slides out.
        if idr {
            w.bit(false); // no_output_of_prior_pics_flag
            w.bit(false); // long_term_reference_flag
        } else {
            w.bit(false); // adaptive_ref_pic_marking_mode_flag
        }
        w.se(0); // slice_qp_delta
        w.ue(1); // disable_deblocking_filter_idc: off (nothing is quantised, nothing to smooth)
    }

    /// The IDR picture's slice: every macroblock `I_PCM`, its 256 luma, 64 Cb and 64 Cr samples
    /// stored as they are.
    pub(super) fn idr_slice(luma: &[u8], cb: &[u8], cr: &[u8]) -> Vec<u8> {
        let width = MB_COLUMNS * 16;
        let mut w = BitWriter::default();
        slice_header(&mut w, 0);
        for row in 0..MB_ROWS {
            for column in 0..MB_COLUMNS {
                w.ue(25); // mb_type: I_PCM
                w.align(); // pcm_alignment_zero_bit
                for y in row * 16..row * 16 + 16 {
                    for x in column * 16..column * 16 + 16 {
                        w.byte(luma[y * width + x]);
                    }
                }
                for plane in [cb, cr] {
                    for y in row * 8..row * 8 + 8 {
                        for x in column * 8..column * 8 + 8 {
                            w.byte(plane[y * width / 2 + x]);
                        }
                    }
                }
            }
        }
        w.finish()
    }

    /// A P picture's slice: every macroblock `P_L0_16x16` with motion vector `(mv_x, mv_y)` (in
    /// quarter samples) into the previous picture and no residual, so the whole picture moves.
    /// With the same vector everywhere the predicted vector (8.4.1.3) is that vector for every
    /// macroblock but the first, whose neighbours are all outside the slice and predict zero:
    /// only the first macroblock carries a nonzero difference.
    pub(super) fn p_slice(frame_num: u32, mv_x: i32, mv_y: i32) -> Vec<u8> {
        let mut w = BitWriter::default();
        slice_header(&mut w, frame_num);
        for macroblock in 0..MB_COLUMNS * MB_ROWS {
            w.ue(0); // mb_skip_run
            w.ue(0); // mb_type: P_L0_16x16 (one reference, so no ref_idx_l0)
            let (dx, dy) = if macroblock == 0 {
                (mv_x, mv_y)
            } else {
                (0, 0)
            };
            w.se(dx); // mvd_l0 x
            w.se(dy); // mvd_l0 y
            w.ue(0); // coded_block_pattern: codeNum 0 is 0 for inter macroblocks
        }
        w.finish()
    }

    #[cfg(test)]
    mod tests {
        use super::BitWriter;

        #[test]
        fn exp_golomb_codes_match_the_standard_table() {
            let mut w = BitWriter::default();
            // ue: 0 → 1, 1 → 010, 2 → 011, 3 → 00100; se: -1 → 011, 2 → 00100.
            for value in [0, 1, 2, 3] {
                w.ue(value);
            }
            w.se(-1);
            w.se(2);
            // 1 010 011 00100 011 00100, then the stop bit and zeros.
            assert_eq!(w.finish(), [0b1010_0110, 0b0100_0110, 0b0100_1000]);
        }
    }
}

/// The MP4 file (ISO/IEC 14496-12 and -15): `ftyp`, then `moov` (so a browser can start playing
/// before the end arrives), then `mdat` with every sample in one chunk.
mod isobmff {
    use super::{HEIGHT, VIDEO_FPS, WIDTH};

    /// The media timescale: milliseconds.
    const TIMESCALE: u32 = 1000;

    fn boxed(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
        let size = 8 + parts.iter().map(|part| part.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&(size as u32).to_be_bytes());
        out.extend_from_slice(kind);
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    }

    /// A full box: version 0 and `flags`, then `body`.
    fn full(kind: &[u8; 4], flags: u32, body: &[u8]) -> Vec<u8> {
        boxed(kind, &[&flags.to_be_bytes(), body])
    }

    /// Big-endian fields one after another.
    #[derive(Default)]
    struct Fields(Vec<u8>);

    impl Fields {
        fn u8(mut self, value: u8) -> Fields {
            self.0.push(value);
            self
        }
        fn u16(mut self, value: u16) -> Fields {
            self.0.extend_from_slice(&value.to_be_bytes());
            self
        }
        fn u32(mut self, value: u32) -> Fields {
            self.0.extend_from_slice(&value.to_be_bytes());
            self
        }
        fn bytes(mut self, value: &[u8]) -> Fields {
            self.0.extend_from_slice(value);
            self
        }
        /// The identity transformation matrix of `mvhd` and `tkhd`.
        fn unity_matrix(self) -> Fields {
            [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
                .into_iter()
                .fold(self, Fields::u32)
        }
    }

    pub(super) fn file(sps: &[u8], pps: &[u8], samples: &[Vec<u8>]) -> Vec<u8> {
        let ftyp = boxed(
            b"ftyp",
            &[b"isom", &0x200u32.to_be_bytes(), b"isomiso2avc1mp41"],
        );
        // `stco` names where the samples start, after `moov` itself: its size does not depend
        // on the offset's value, so build it once to measure and once for real.
        let measure = moov(sps, pps, samples, 0);
        let data_offset = ftyp.len() + measure.len() + 8;
        let moov = moov(sps, pps, samples, data_offset as u32);
        let payload: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
        let mdat = boxed(b"mdat", &payload);
        [ftyp, moov, mdat].concat()
    }

    fn moov(sps: &[u8], pps: &[u8], samples: &[Vec<u8>], data_offset: u32) -> Vec<u8> {
        let count = samples.len() as u32;
        let delta = TIMESCALE / VIDEO_FPS;
        let duration = count * delta;
        let mvhd = full(
            b"mvhd",
            0,
            &Fields::default()
                .u32(0) // creation_time
                .u32(0) // modification_time
                .u32(TIMESCALE)
                .u32(duration)
                .u32(0x0001_0000) // rate 1.0
                .u16(0x0100) // volume 1.0
                .bytes(&[0; 10]) // reserved
                .unity_matrix()
                .bytes(&[0; 24]) // pre_defined
                .u32(2) // next_track_ID
                .0,
        );
        let tkhd = full(
            b"tkhd",
            0x3, // enabled, in movie
            &Fields::default()
                .u32(0) // creation_time
                .u32(0) // modification_time
                .u32(1) // track_ID
                .u32(0) // reserved
                .u32(duration) // in the movie's timescale, the same
                .bytes(&[0; 8]) // reserved
                .u16(0) // layer
                .u16(0) // alternate_group
                .u16(0) // volume: not audio
                .u16(0) // reserved
                .unity_matrix()
                .u32(u32::from(WIDTH) << 16)
                .u32(u32::from(HEIGHT) << 16)
                .0,
        );
        let mdhd = full(
            b"mdhd",
            0,
            &Fields::default()
                .u32(0)
                .u32(0)
                .u32(TIMESCALE)
                .u32(duration)
                .u16(0x55c4) // language: und
                .u16(0)
                .0,
        );
        let hdlr = full(
            b"hdlr",
            0,
            &Fields::default()
                .u32(0) // pre_defined
                .bytes(b"vide")
                .bytes(&[0; 12])
                .bytes(b"VideoHandler\0")
                .0,
        );
        let vmhd = full(b"vmhd", 0x1, &[0; 8]);
        let dref = full(
            b"dref",
            0,
            &[&1u32.to_be_bytes()[..], &full(b"url ", 0x1, &[])].concat(),
        );
        let dinf = boxed(b"dinf", &[&dref]);
        let stbl = boxed(
            b"stbl",
            &[
                &stsd(sps, pps),
                &full(
                    b"stts",
                    0,
                    &Fields::default().u32(1).u32(count).u32(delta).0,
                ),
                // Only the first frame is a sync sample.
                &full(b"stss", 0, &Fields::default().u32(1).u32(1).0),
                &full(
                    b"stsc",
                    0,
                    &Fields::default().u32(1).u32(1).u32(count).u32(1).0,
                ),
                &full(
                    b"stsz",
                    0,
                    &samples
                        .iter()
                        .fold(Fields::default().u32(0).u32(count), |fields, sample| {
                            fields.u32(sample.len() as u32)
                        })
                        .0,
                ),
                &full(b"stco", 0, &Fields::default().u32(1).u32(data_offset).0),
            ],
        );
        let minf = boxed(b"minf", &[&vmhd, &dinf, &stbl]);
        let mdia = boxed(b"mdia", &[&mdhd, &hdlr, &minf]);
        let trak = boxed(b"trak", &[&tkhd, &mdia]);
        boxed(b"moov", &[&mvhd, &trak])
    }

    /// The sample description: one `avc1` entry whose `avcC` carries the SPS and PPS.
    fn stsd(sps: &[u8], pps: &[u8]) -> Vec<u8> {
        let avcc = boxed(
            b"avcC",
            &[&Fields::default()
                .u8(1) // configurationVersion
                .u8(super::h264::PROFILE)
                .u8(super::h264::CONSTRAINTS)
                .u8(super::h264::LEVEL)
                .u8(0xff) // lengthSizeMinusOne: 3
                .u8(0xe1) // one SPS
                .u16(sps.len() as u16)
                .bytes(sps)
                .u8(1) // one PPS
                .u16(pps.len() as u16)
                .bytes(pps)
                .0],
        );
        let mut compressor = [0u8; 32];
        let name = b"patrol demo";
        compressor[0] = name.len() as u8;
        compressor[1..=name.len()].copy_from_slice(name);
        let avc1 = boxed(
            b"avc1",
            &[
                &Fields::default()
                    .bytes(&[0; 6]) // reserved
                    .u16(1) // data_reference_index
                    .u16(0) // pre_defined
                    .u16(0) // reserved
                    .bytes(&[0; 12]) // pre_defined
                    .u16(WIDTH)
                    .u16(HEIGHT)
                    .u32(0x0048_0000) // 72 dpi
                    .u32(0x0048_0000)
                    .u32(0) // reserved
                    .u16(1) // frame_count
                    .bytes(&compressor)
                    .u16(0x0018) // depth: colour
                    .u16(0xffff) // pre_defined: -1
                    .0,
                &avcc,
            ],
        );
        full(b"stsd", 0, &[&1u32.to_be_bytes()[..], &avc1].concat())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::{HEIGHT, VIDEO_FPS, VIDEO_FRAMES, WIDTH, image, video};

    const NAMES: [&str; 4] = [
        "patrol-demo-order-1-image-0",
        "patrol-demo-order-1-image-1",
        "wwpatroldemo000001/42/video",
        "",
    ];

    #[test]
    fn the_same_name_gives_the_same_bytes_and_other_names_others() {
        for name in NAMES {
            assert_eq!(image(name), image(name), "{name:?}");
            assert_eq!(video(name), video(name), "{name:?}");
        }
        for (i, a) in NAMES.iter().enumerate() {
            for b in &NAMES[i + 1..] {
                assert_ne!(image(a), image(b), "{a:?} and {b:?}");
                assert_ne!(video(a), video(b), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn the_image_is_a_baseline_jpeg_that_decodes_to_its_size() {
        for index in 0..40 {
            let name = format!("order-{index}-image");
            let jpeg = image(&name);
            assert!(jpeg.len() < 30_000, "{name}: {} bytes", jpeg.len());
            assert!(jpeg.starts_with(&[0xff, 0xd8]) && jpeg.ends_with(&[0xff, 0xd9]));
            let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(&jpeg));
            let pixels = decoder.decode().expect("the JPEG decodes");
            let info = decoder.info().unwrap();
            assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
            assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
            assert_eq!(
                info.coding_process,
                jpeg_decoder::CodingProcess::DctSequential
            );
            assert_eq!(pixels.len(), usize::from(WIDTH) * usize::from(HEIGHT) * 3);
        }
    }

    /// The top-level boxes of an MP4 file, as (type, size); asserts that they tile the file.
    #[track_caller]
    fn top_level_boxes(file: &[u8]) -> Vec<(String, usize)> {
        let mut boxes = Vec::new();
        let mut at = 0;
        while at < file.len() {
            let size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
            assert!(size >= 8 && at + size <= file.len(), "box at {at}: {size}");
            boxes.push((
                String::from_utf8_lossy(&file[at + 4..at + 8]).into_owned(),
                size,
            ));
            at += size;
        }
        assert_eq!(at, file.len());
        boxes
    }

    #[test]
    fn the_video_is_an_mp4_of_h264_frames() {
        for index in 0..8 {
            let name = format!("order-{index}-video");
            let file = video(&name);
            assert!(file.len() < 200_000, "{name}: {} bytes", file.len());
            let boxes = top_level_boxes(&file);
            let kinds: Vec<&str> = boxes.iter().map(|(kind, _)| kind.as_str()).collect();
            assert_eq!(kinds, ["ftyp", "moov", "mdat"]);
            assert_eq!(
                boxes.iter().map(|(_, size)| size).sum::<usize>(),
                file.len()
            );

            // An independent reader agrees on the track.
            let reader = mp4::Mp4Reader::read_header(Cursor::new(&file), file.len() as u64)
                .expect("the MP4 parses");
            assert_eq!(reader.ftyp.major_brand, "isom".parse().unwrap());
            assert_eq!(reader.tracks().len(), 1);
            let track = reader.tracks().get(&1).expect("track 1");
            assert_eq!(track.track_type().unwrap(), mp4::TrackType::Video);
            assert_eq!(track.media_type().unwrap(), mp4::MediaType::H264);
            assert_eq!((track.width(), track.height()), (WIDTH, HEIGHT));
            assert_eq!(track.sample_count(), VIDEO_FRAMES);
            assert_eq!(
                track.duration().as_millis(),
                u128::from(VIDEO_FRAMES * 1000 / VIDEO_FPS)
            );
            assert_eq!(track.frame_rate(), f64::from(VIDEO_FPS));
            // The SPS says Constrained Baseline, level 3.0 (`avc1.42C01E`).
            let sps = track.sequence_parameter_set().unwrap();
            assert_eq!(sps[..4], [0x67, 66, 0xc0, 30]);
            let pps = track.picture_parameter_set().unwrap();
            assert_eq!(pps[0], 0x68);
        }
    }

    #[test]
    fn the_video_samples_are_length_prefixed_nal_units_filling_mdat() {
        let file = video("order-7-video");
        let mut reader = mp4::Mp4Reader::read_header(Cursor::new(&file), file.len() as u64)
            .expect("the MP4 parses");
        let mut total = 0;
        for sample_id in 1..=VIDEO_FRAMES {
            let sample = reader.read_sample(1, sample_id).unwrap().expect("a sample");
            assert_eq!(sample.is_sync, sample_id == 1, "sample {sample_id}");
            let bytes = &sample.bytes;
            let length = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
            assert_eq!(length + 4, bytes.len(), "one NAL unit per sample");
            // An IDR slice first, then non-IDR slices.
            let expected = if sample_id == 1 { 0x65 } else { 0x41 };
            assert_eq!(bytes[4], expected, "sample {sample_id}");
            total += bytes.len();
        }
        let mdat = top_level_boxes(&file).last().unwrap().1;
        assert_eq!(total + 8, mdat);
    }
}
