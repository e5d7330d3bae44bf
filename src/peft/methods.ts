/** Importing this module registers every built-in PEFT method (composition order: PA, SA, LoRA, PT). */
import './parallel_adapter/index.js';
import './serial_adapter/index.js';
import './lora/index.js';
import './prefix_tuning/index.js';
