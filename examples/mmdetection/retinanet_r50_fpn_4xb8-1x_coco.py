# A child: 4 GPUs x 8 images = 32, twice the base's 16, with the base's lr (LR001).
_base_ = './retinanet_r50_fpn_8xb2-1x_coco.py'
train_dataloader = dict(batch_size=8)
