"""MAE-style fine-tuning: the lr is computed from the batch (lrlint only parses this file)."""
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--batch_size", type=int, default=64)
parser.add_argument("--accum_iter", type=int, default=2)
parser.add_argument("--blr", type=float, default=5e-4, help="base lr: lr = blr * eff_batch / 256")
args = parser.parse_args()

world_size = 8
eff_batch_size = args.batch_size * args.accum_iter * world_size
lr = args.blr * eff_batch_size / 256  # linear scaling, as MAE does for AdamW

model = torch.nn.Linear(768, 1000)
optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
