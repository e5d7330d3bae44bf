/** Importing this module registers every built-in PEFT method (composition order: PA, SA, LoRA, PT). */
import './parallel-adapter/index.js';
import './serial-adapter/index.js';
import './lora/index.js';
import './prefix-tuning/index.js';
